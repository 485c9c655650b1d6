"""A project's git repository: one interface, five providers, seeded over HTTPS with dulwich.

* :mod:`.settings` parses and checks the repository properties of the product
  (``RepositoryProvider`` and its settings);
* :mod:`.providers` makes, finds, tags and deletes repositories (CodeCommit,
  GitHub, GitLab, Bitbucket through a token or a CodeConnections connection,
  any git URL);
* :mod:`.seed` builds the seed commit (seed-code zip plus ``project.json``) and
  :mod:`.git_transport` pushes it with dulwich (the Lambda runtime has no git);
* :mod:`.project_repository` puts it together for the project lifecycle.
"""
