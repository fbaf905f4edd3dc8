"""The shell: settings, the ``earshot`` command line and the worker that runs jobs."""
