"""One file per dashboard page; thin: widgets and layout, everything else comes from the backend."""
