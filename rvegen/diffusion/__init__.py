"""The 2D DDPM: schedule, denoiser backbones, training and multi-plane sampling."""
