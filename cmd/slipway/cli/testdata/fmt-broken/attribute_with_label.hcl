service "a" = {}
