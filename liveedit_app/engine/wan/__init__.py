"""Wan2.1 parts around the DiT: the umT5 text encoder, the latent normalisation, the tiny
streaming autoencoder (TAEHV layout) and the full Wan VAE.

Importing this package registers those parts in the engine's component registry.
"""
