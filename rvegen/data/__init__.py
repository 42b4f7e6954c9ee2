"""Stage 1: readers, segmentation, synthetic sources, training patches, dataset.h5."""

from .dataset import Dataset, load_dataset, save_dataset
from .ingest import ingest, random_crops

__all__ = ["Dataset", "ingest", "load_dataset", "random_crops", "save_dataset"]
