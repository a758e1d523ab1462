"""The pipeline: Dramatiq workers, the scheduler and the inbox watcher on both networks
(SPEC §11). Nothing here runs at import: :mod:`.runtime` builds a network's broker, jobs
and actors; :mod:`.process` runs worker and scheduler processes."""
