"""What every resource app shares: typed errors, the owned-resource base model, ARNs, names."""
