"""Looking inside a model: feature maps, Grad-CAM and the HTML run report."""
