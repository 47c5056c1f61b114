"""The demo company: a realistic synthetic B2B history generated from latent customer traits."""
