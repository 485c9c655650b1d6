"""The product templates: one stack per SageMaker project, all made by one builder."""
