"""What the nodes of a cluster share besides the database (DESIGN.md "Growing past one
machine"): a bus that tells every other node at once what changed (caches, sessions), and
carries a command for a session to the node that runs it.

`LocalBus` is one node's bus (SQLite, or no Redis): there is nobody to tell, and every
session runs here. `RedisBus` is the cluster's.
"""

from sendmako.cluster.bus import Bus, Handler, Listener, LocalBus, Message, NodeLost, NotDelivered

__all__ = ["Bus", "Handler", "Listener", "LocalBus", "Message", "NodeLost", "NotDelivered"]
