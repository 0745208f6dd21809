# Loaded by `slipway -env staging ...`, which also keeps staging's state apart.
domain = "staging.thebot.example.com"
