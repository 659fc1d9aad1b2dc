"""Side-by-side benchmarks of shallownet against its peers (see design.md, "Benchmarks")."""
