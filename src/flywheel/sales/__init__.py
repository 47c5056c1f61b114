"""Sales: orders (deals and the pipeline come with the key-accounts capability)."""
