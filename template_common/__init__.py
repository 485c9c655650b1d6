"""What the platform template (``portfolio/``) and the product templates (``products/``)
both build with: the settings of a build, the product catalog, the lifecycle function's
timing, ARN builders and the IAM statements roles of both stacks hold.

Both packages import this one and never each other; it imports neither. Names that
the templates share with the Lambda's handlers live in the Lambda package
(``lambda_project_lifecycle.environment``, ``.naming``, ``.resource_properties``,
``.scenarios``, ``.triggers``), which is all the Lambda zip holds.
"""
