"""The `train` command: config -> environment -> source -> dispatch -> run -> report."""
