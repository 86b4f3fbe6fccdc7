"""The domain: jobs, their kinds and status machine, commands, typed parameters, rules, costs,
sizes, prompt flags, pages, accounts and errors. Pure: it imports nothing of the program but
itself, and nothing outside the standard library."""
