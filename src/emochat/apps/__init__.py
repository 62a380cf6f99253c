"""What the front ends (CLI, batch, serve) share: one clip's job (:mod:`.jobs`) and the
analysis arguments their parsers offer (:mod:`.arguments`)."""
