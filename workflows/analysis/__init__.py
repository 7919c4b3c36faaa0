"""Samlad årlig analys (§7.1.4): the year's figures assembled from the data, the purchaser's
text around them, draft → review → published, a published edition frozen and versioned."""
