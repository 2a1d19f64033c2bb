"""The API's routes, one module per noun. Each route parses, calls one use-case with the
caller's Actor and returns a response model; none touches the database."""
