"""Business logic on the database, scoped to the organisation of the :class:`~core.context.Context`.

Routes stay thin: they parse input, call one service function and commit.
"""
