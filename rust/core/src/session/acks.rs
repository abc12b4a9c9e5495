//! Acknowledgements both ways: our pending acks ([`Acks`]: emits waiting for the server's answer, each bound to the
//! namespace it was emitted on, with its deadline), and the numbering of namespace sessions ([`next_session`]),
//! which binds each of the server's ack requests ([`AckRequest`](crate::AckRequest)) to the session it came in.

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use crate::event::AckId;

/// A namespace session number never used before in this process (see [`AckRequest`](crate::AckRequest)): unique
/// across clients and across a client's engine being replaced, so no ack request can ever match another session.
/// Never 0, which stamps requests that came in no session.
pub(super) fn next_session() -> u64 {
    static SESSIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    SESSIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1
}

#[derive(Debug)]
struct PendingAck {
    namespace: String,
    deadline: Instant,
    /// When it was emitted (for the round trip).
    emitted: Instant,
    /// Written to the transport (not still in a send buffer).
    sent: bool,
}

/// Our emits waiting for an answer, by ack id, and their deadlines in order.
#[derive(Debug, Default)]
pub(super) struct Acks {
    pending: HashMap<AckId, PendingAck>,
    deadlines: BTreeSet<(Instant, AckId)>,
    next_id: AckId,
    /// When the ack answered last was emitted, until the session takes it ([`take_answered`](Self::take_answered)).
    answered: Option<Instant>,
}

impl Acks {
    /// The id the next [`insert`](Self::insert) takes.
    pub(super) fn next_id(&self) -> AckId {
        self.next_id
    }

    /// No pending ack, the numbering going on: ids stay unique for the client's lifetime, across a reset.
    pub(super) fn emptied(&self) -> Acks {
        Acks {
            next_id: self.next_id,
            ..Acks::default()
        }
    }

    /// Adds ack `id` (the one [`next_id`](Self::next_id) gave) of an emit on `namespace`, due by `deadline`.
    pub(super) fn insert(&mut self, id: AckId, namespace: &str, emitted: Instant, deadline: Instant, sent: bool) {
        self.next_id = id + 1;
        self.pending.insert(
            id,
            PendingAck {
                namespace: namespace.to_owned(),
                deadline,
                emitted,
                sent,
            },
        );
        self.deadlines.insert((deadline, id));
    }

    /// Removes ack `id`, returning the namespace it was emitted on.
    pub(super) fn remove(&mut self, id: AckId) -> Option<String> {
        let pending = self.pending.remove(&id)?;
        self.deadlines.remove(&(pending.deadline, id));
        Some(pending.namespace)
    }

    /// Removes ack `id` if it was emitted on `namespace` (the server's answer on another namespace is no answer).
    pub(super) fn answer(&mut self, id: AckId, namespace: &str) -> bool {
        let emitted_there = self.pending.get(&id).is_some_and(|p| p.namespace == namespace);
        if emitted_there {
            if let Some(pending) = self.pending.remove(&id) {
                self.deadlines.remove(&(pending.deadline, id));
                self.answered = Some(pending.emitted);
            }
        }
        emitted_there
    }

    /// When the ack answered since the last call was emitted.
    pub(super) fn take_answered(&mut self) -> Option<Instant> {
        self.answered.take()
    }

    /// Whether ack `id` was written to the transport.
    pub(super) fn is_sent(&self, id: AckId) -> bool {
        self.pending.get(&id).is_some_and(|p| p.sent)
    }

    /// Notes that the emit of ack `id` left its send buffer for the transport.
    pub(super) fn mark_sent(&mut self, id: AckId) {
        if let Some(pending) = self.pending.get_mut(&id) {
            pending.sent = true;
        }
    }

    /// The ack due first, if it is due at `now`.
    pub(super) fn first_due(&self, now: Instant) -> Option<AckId> {
        self.deadlines
            .first()
            .filter(|&&(deadline, _)| deadline <= now)
            .map(|&(_, id)| id)
    }

    /// When the ack due first is due.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.first().map(|&(deadline, _)| deadline)
    }

    /// Number of pending acks.
    pub(super) fn len(&self) -> usize {
        self.pending.len()
    }

    /// Every pending ack id, in no particular order.
    pub(super) fn ids(&self) -> Vec<AckId> {
        self.pending.keys().copied().collect()
    }
}
