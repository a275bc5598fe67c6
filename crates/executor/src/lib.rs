//! Merge operators with MySQL semantics over rows streamed from several data nodes.
