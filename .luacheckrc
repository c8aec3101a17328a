std = "max"
max_line_length = 160
files["spec"] = { std = "+busted" }
