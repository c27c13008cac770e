"""Order views, one module per workspace: detail and actions, search, pipeline, enquiries."""
