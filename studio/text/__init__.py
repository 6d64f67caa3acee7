"""Text generation: loading, sampling settings, streaming, next-token explorer, remote backends."""
