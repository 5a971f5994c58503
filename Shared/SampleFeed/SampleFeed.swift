/// Deterministic sample feeds in contract v1.1 (filled in by the generator work).
public enum SampleFeed {}
