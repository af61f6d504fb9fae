"""The product's rules, free of storage and transports: who sees what, grants, presence."""
