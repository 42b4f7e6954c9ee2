"""FEA-ready exports of voxel volumes: one voxel-mesh builder, one writer per format."""
