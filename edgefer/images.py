"""Which files are images: the suffixes OpenCV reads, shared by the data readers (image
folders) and the runtime (image and directory sources)."""

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".ppm", ".tif", ".tiff",
                            ".webp"})
