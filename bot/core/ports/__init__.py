"""What the core needs from the outside world, as small contracts per concern.

The contracts live here rather than in bot/store or bot/adapters so that the use-cases in
bot/core depend on them without importing an I/O library (dependency inversion):
bot/store implements the storage roles (`stores`; `leases` for sharing one database
between processes), each adapter implements `Notifier` (`notify`), bot/feeds implements
`FeedProbe` (`probe`). The records that cross them are in `records`.
"""

from bot.core.ports.enrichment import CachedArticle, EnrichmentStore, StoryFactKind
from bot.core.ports.leases import ChangeFeed, ChannelLeases, FeedLeases
from bot.core.ports.notify import (
    MessageRejected,
    Notifier,
    PermanentSendError,
    RateLimited,
    SendError,
    SendResult,
    TransientSendError,
)
from bot.core.ports.pacing import SendPacing
from bot.core.ports.probe import FeedProbe, FeedRejected, ProbedFeed
from bot.core.ports.records import (
    ChannelClaim,
    ChannelDeliveryStatus,
    Delivery,
    FeedClaim,
    FetchState,
    HeldChannel,
    Lease,
    LeaseLost,
    OutboxDepth,
    PendingEdit,
    SeenTitle,
    StoryCopy,
    StoryKeys,
)
from bot.core.ports.stores import (
    ChannelSettingsStore,
    ChannelStatusStore,
    FeedStore,
    FollowUpStore,
    HoldStore,
    OutboxStore,
    ParkStore,
    Store,
    StoryStore,
    SubscriptionStore,
)

__all__ = [
    "CachedArticle",
    "ChangeFeed",
    "ChannelClaim",
    "ChannelDeliveryStatus",
    "ChannelLeases",
    "ChannelSettingsStore",
    "ChannelStatusStore",
    "Delivery",
    "EnrichmentStore",
    "FeedClaim",
    "FeedLeases",
    "FeedProbe",
    "FeedRejected",
    "FeedStore",
    "FetchState",
    "FollowUpStore",
    "HeldChannel",
    "HoldStore",
    "Lease",
    "LeaseLost",
    "MessageRejected",
    "Notifier",
    "OutboxDepth",
    "OutboxStore",
    "ParkStore",
    "PendingEdit",
    "PermanentSendError",
    "ProbedFeed",
    "RateLimited",
    "SeenTitle",
    "SendError",
    "SendPacing",
    "SendResult",
    "Store",
    "StoryCopy",
    "StoryFactKind",
    "StoryKeys",
    "StoryStore",
    "SubscriptionStore",
    "TransientSendError",
]
