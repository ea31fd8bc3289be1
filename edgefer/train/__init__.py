"""PyTorch training: config, augmentation, checkpoints and the training loop."""
