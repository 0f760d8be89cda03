"""PyTorch frontend: torch.export -> euler dialect (see issue 5)."""
