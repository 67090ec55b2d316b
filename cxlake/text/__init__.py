"""Chinese review text: normalisation, segmentation and the shipped sentiment model."""
