"""What the front ends (CLI, batch, serve) share: one clip's job (:mod:`.jobs`)."""
