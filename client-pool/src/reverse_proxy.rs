//! ReverseProxy (placeholder until the reload work lands).
