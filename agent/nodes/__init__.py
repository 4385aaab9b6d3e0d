"""One module per node of the research graph; each has one public function
`node(state, deps) -> (update, trace text)`. The text is the node's line in the trace
(None: no line, as for the review nodes, which re-run on resume)."""
