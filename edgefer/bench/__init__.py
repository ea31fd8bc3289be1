"""`edgefer bench`: accuracy and latency of our models and peer models across backends."""
