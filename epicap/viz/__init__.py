"""Pictures: Open3D skeletons and camera frusta, 2D overlays, the HTML report."""
