//! Godot layer (being written).
