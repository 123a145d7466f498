"""Users' files -> validated models. Every error here names the file and the place in it."""

from detente.scenario.actors import Actor, ActorFile, Issue, load_actor_file

__all__ = ["Actor", "ActorFile", "Issue", "load_actor_file"]
