"""Personal data under PIPL / GDPR: erasing one person everywhere cxlake keeps them (issue 19)."""
