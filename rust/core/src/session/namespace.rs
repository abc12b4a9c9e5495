// Just over 600 lines, on purpose: every transition in one file, so that the one teardown reads beside all that
// leads to it.

//! The namespaces: each one's membership of the connection ([`Membership`], one enum, the data of a membership in
//! its variant) beside what lasts across memberships (auth, recovery, send buffer, pending acks), and the table of
//! them ([`Namespaces`]) with every transition. Transitions keep count of the wanted namespaces, so that no call
//! scans them all, and one of them, [`Namespaces::leave`], is the only teardown: whatever ends a membership (the
//! user, the server, a refusal, the connection), acks that can no longer be answered time out, buffered emits and
//! undelivered events go where they must, and the user is told, there.
//!
//! These types know the connection only through a [`Link`]; the engine ([`Session`](super::Session)) applies what
//! a packet means for the connection as a whole ([`Then`]).

use std::collections::{BTreeSet, HashSet};

use crate::codec::packet::{Packet, Received};
use crate::codec::payload::Payload;
use crate::codec::value::Value;
use crate::error::CommandError;
use crate::event::{AckId, AckRequest, ClientEvent, ConnectError, ConnectionState, DisconnectReason};

use super::acks::{self, Acks};
use super::engine::Link;
use super::outbox::Outbox;
use super::send_buffer::SendBuffer;
use super::table::PathTable;

/// Most events held for a namespace waiting for its CONNECT answer (a recovered session's replay).
const MAX_EARLY_EVENTS: usize = 10_000;

/// A namespace's membership of the connection.
#[derive(Debug)]
pub(super) enum Membership {
    /// Not wanted: neither connected nor trying to be.
    Idle,
    /// Wanted, and waiting for a connection to open (the session idle, opening, or waiting to reconnect): it joins
    /// as soon as one does.
    Waiting,
    /// Wanted, and our CONNECT is on its way.
    Joining {
        /// Events that arrived before the answer (a recovered session's replay), delivered after it.
        early: Vec<ClientEvent>,
    },
    /// Connected: one namespace session.
    Connected {
        /// The server's Socket.IO session id.
        sid: String,
        /// This session's number, stamped on the server's ack requests (see [`AckRequest`]).
        session: u64,
    },
    /// No longer wanted, but our CONNECT on this connection is unanswered. The server refuses a DISCONNECT before
    /// its answer (and closes the whole connection), so the DISCONNECT follows the answer.
    Leaving,
}

impl Membership {
    /// Whether the user wants the namespace connected (it (re)joins whenever a connection opens).
    fn is_wanted(&self) -> bool {
        matches!(
            self,
            Membership::Waiting | Membership::Joining { .. } | Membership::Connected { .. }
        )
    }

    /// The state the user sees, while the session is `idle` (no connection, and not trying) or not.
    fn state(&self, idle: bool) -> ConnectionState {
        match self {
            Membership::Idle | Membership::Leaving => ConnectionState::Disconnected,
            Membership::Waiting if idle => ConnectionState::Disconnected,
            Membership::Waiting | Membership::Joining { .. } => ConnectionState::Connecting,
            Membership::Connected { .. } => ConnectionState::Connected,
        }
    }

    /// Whether our CONNECT on this connection waits for its answer.
    fn awaits_answer(&self) -> bool {
        matches!(self, Membership::Joining { .. } | Membership::Leaving)
    }
}

/// What ends a membership ([`Namespaces::leave`]); it decides what the namespace becomes and what is told.
#[derive(Debug)]
pub(super) enum Exit {
    /// The user disconnects (or removes) it: no longer wanted. Its undelivered events and buffered emits are
    /// dropped, the server is told, and the user too ("io client disconnect"), also when it was only connecting.
    Client,
    /// The server sent DISCONNECT: no longer wanted.
    Server,
    /// The server refused it (CONNECT_ERROR, or an answer that is not Socket.IO v5's): no longer wanted.
    Refused(ConnectError),
    /// We end the connection, on the client's or the server's word: a connected namespace tells the server it
    /// leaves. Still wanted, it joins the next connection.
    Closed(DisconnectReason),
    /// The connection was lost: still wanted, it joins the next connection.
    Lost(DisconnectReason),
}

/// What a namespace packet means for the connection as a whole; see [`Namespaces::receive`].
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Then {
    /// Nothing more.
    Done,
    /// A namespace stopped being wanted: when no namespace is wanted any more, end the connection with this
    /// reason (socket.io-client's rule: a connection nobody uses closes).
    CloseIfUnused(DisconnectReason),
    /// The connection fails with a parse error, for this reason.
    Fail(&'static str),
}

/// One namespace. Its membership changes only through [`Namespaces`].
#[derive(Debug)]
pub(super) struct Namespace {
    path: String,
    membership: Membership,
    /// The user's auth, sent with each CONNECT.
    auth: Option<Value>,
    /// Connection state recovery: the server's private session id and the last event offset seen.
    pid: Option<String>,
    last_offset: Option<String>,
    /// Whether the last CONNECT answer restored the previous session.
    recovered: bool,
    /// Emits waiting for the namespace to connect.
    pub(super) buffer: SendBuffer,
    /// This namespace's pending acks (sent or still in the send buffer), in id order.
    pub(super) acks: BTreeSet<AckId>,
}

impl Namespace {
    fn new(path: &str) -> Self {
        Namespace {
            path: path.to_owned(),
            membership: Membership::Idle,
            auth: None,
            pid: None,
            last_offset: None,
            recovered: false,
            buffer: SendBuffer::default(),
            acks: BTreeSet::new(),
        }
    }

    /// The state the user sees (see [`Membership::state`]).
    pub(super) fn state(&self, link: Link) -> ConnectionState {
        self.membership.state(link.idle)
    }

    /// Socket.IO session id while connected.
    pub(super) fn sid(&self) -> Option<&str> {
        match &self.membership {
            Membership::Connected { sid, .. } => Some(sid),
            _ => None,
        }
    }

    /// Whether the last CONNECT answer restored the previous session.
    pub(super) fn recovered(&self) -> bool {
        self.recovered
    }

    /// Whether `request` belongs to the namespace session in progress.
    pub(super) fn in_session(&self, request: AckRequest) -> bool {
        matches!(self.membership, Membership::Connected { session, .. } if session == request.session)
    }

    /// Connection state recovery: a delivered event's last string argument is the server's offset.
    fn note_offset(&mut self, event: &ClientEvent) {
        if self.pid.is_none() {
            return;
        }
        if let ClientEvent::Event { args, ack: None, .. } = event {
            if let Some(offset) = args.last_string() {
                self.last_offset = Some(offset);
            }
        }
    }

    /// The CONNECT packet: the user's auth, with the recovery keys merged in (the user's keys win).
    fn connect_packet(&self) -> Packet {
        let mut auth = self.auth.clone();
        if let Some(pid) = &self.pid {
            let mut entries = vec![("pid".to_owned(), Value::String(pid.clone()))];
            if let Some(offset) = &self.last_offset {
                entries.push(("offset".to_owned(), Value::String(offset.clone())));
            }
            if let Some(Value::Object(user)) = auth.take() {
                entries.retain(|(k, _)| !user.iter().any(|(uk, _)| uk == k));
                entries.extend(user);
            }
            auth = Some(Value::Object(entries));
        }
        Packet::Connect {
            namespace: self.path.clone(),
            data: auth,
        }
    }
}

/// The namespaces by path, in creation order. See the module documentation.
#[derive(Debug, Default)]
pub(super) struct Namespaces {
    /// Looked up in constant time, however many a game creates.
    table: PathTable<Namespace>,
    /// How many are wanted ([`Membership::is_wanted`]).
    wanted: usize,
    /// Namespaces removed while [`Membership::Leaving`]: their DISCONNECT follows the server's answer. Cleared when
    /// the connection ends.
    leaving: HashSet<String>,
}

impl Namespaces {
    // ----- getters ---------------------------------------------------------------------------------------------

    /// Namespace `path`.
    pub(super) fn get(&self, path: &str) -> Option<&Namespace> {
        self.table.get(path)
    }

    /// The slot of namespace `path` (valid until a removal).
    pub(super) fn index_of(&self, path: &str) -> Option<usize> {
        self.table.index_of(path)
    }

    /// Namespace `path`, or [`CommandError::UnknownNamespace`].
    pub(super) fn index_or_err(&self, path: &str) -> Result<usize, CommandError> {
        self.index_of(path)
            .ok_or_else(|| CommandError::UnknownNamespace(path.to_owned()))
    }

    /// The namespace in slot `index`, mutable (its membership changes only through the transitions here).
    pub(super) fn slot_mut(&mut self, index: usize) -> &mut Namespace {
        &mut self.table[index]
    }

    /// Whether namespace `path` is registered.
    pub(super) fn contains(&self, path: &str) -> bool {
        self.table.contains(path)
    }

    /// Packets waiting in all the send buffers.
    pub(super) fn buffered_total(&self) -> usize {
        self.table.values().map(|ns| ns.buffer.len()).sum()
    }

    /// Number of registered namespaces.
    pub(super) fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether any namespace is wanted.
    pub(super) fn any_wanted(&self) -> bool {
        self.wanted > 0
    }

    /// Whether the namespace in slot `index` is connected.
    pub(super) fn is_connected(&self, index: usize) -> bool {
        matches!(self.table[index].membership, Membership::Connected { .. })
    }

    /// Every path, in creation order.
    pub(super) fn paths(&self) -> Vec<String> {
        self.table.values().map(|ns| ns.path.clone()).collect()
    }

    /// The connected namespaces' paths, in creation order.
    pub(super) fn connected(&self) -> Vec<String> {
        self.table
            .values()
            .filter(|ns| matches!(ns.membership, Membership::Connected { .. }))
            .map(|ns| ns.path.clone())
            .collect()
    }

    // ----- transitions -----------------------------------------------------------------------------------------

    /// Changes the membership of slot `index`, keeping the count of wanted namespaces. Returns the one it had.
    fn set(&mut self, index: usize, membership: Membership) -> Membership {
        let ns = &mut self.table[index];
        match (ns.membership.is_wanted(), membership.is_wanted()) {
            (false, true) => self.wanted += 1,
            (true, false) => self.wanted -= 1,
            _ => {}
        }
        std::mem::replace(&mut ns.membership, membership)
    }

    /// Registers namespace `path`, idle, unless it is registered.
    pub(super) fn add(&mut self, path: &str) {
        if !self.table.contains(path) {
            let mut ns = Namespace::new(path);
            if self.leaving.remove(path) {
                // Removed while its CONNECT was on its way, and back before the answer: the answer is this one's.
                ns.membership = Membership::Leaving;
            }
            self.table.insert(path, ns);
        }
    }

    /// The user wants slot `index` connected, with `auth`: it joins now if the connection is open, otherwise when
    /// one opens. A connected namespace stays as it is (and keeps its auth).
    pub(super) fn connect(&mut self, index: usize, auth: Option<Value>, link: Link, out: &mut Outbox) {
        let ns = &mut self.table[index];
        match ns.membership {
            Membership::Connected { .. } => {}
            // A CONNECT is already on its way: a second one would make the server create a second socket. Its
            // answer connects the namespace; the new auth is used from the next (re)join on.
            Membership::Joining { .. } => ns.auth = auth,
            Membership::Leaving if link.open => {
                ns.auth = auth;
                self.set(index, Membership::Joining { early: Vec::new() });
            }
            Membership::Idle | Membership::Waiting | Membership::Leaving => {
                ns.auth = auth;
                self.set(index, Membership::Waiting);
                if link.open {
                    self.join(index, link, out);
                }
            }
        }
    }

    /// Sends slot `index`'s CONNECT.
    fn join(&mut self, index: usize, link: Link, out: &mut Outbox) {
        out.control(&self.table[index].connect_packet(), link.frame_limit);
        self.set(index, Membership::Joining { early: Vec::new() });
    }

    /// The connection opened: every waiting namespace joins, in creation order.
    pub(super) fn join_waiting(&mut self, link: Link, out: &mut Outbox) {
        for index in 0..self.table.slot_count() {
            if self
                .table
                .slot(index)
                .is_some_and(|ns| matches!(ns.membership, Membership::Waiting))
            {
                self.join(index, link, out);
            }
        }
    }

    /// Ends slot `index`'s membership for `exit`: the one teardown (see [`Exit`] for what each case becomes and
    /// tells). In order: undelivered events go (the user's exit), the server is told, buffered emits go (the
    /// user's exit) and their acks time out, then the acks already sent (once connected; no answer can come any
    /// more), then the user is told.
    pub(super) fn leave(&mut self, index: usize, exit: Exit, link: Link, acks: &mut Acks, out: &mut Outbox) {
        let ns = &self.table[index];
        let seen = ns.state(link);
        let was_connected = matches!(ns.membership, Membership::Connected { .. });
        let next = match exit {
            Exit::Closed(_) | Exit::Lost(_) if ns.membership.is_wanted() => Membership::Waiting,
            Exit::Client | Exit::Server if ns.membership.awaits_answer() => Membership::Leaving,
            _ => Membership::Idle,
        };
        self.set(index, next);
        let path = self.table[index].path.clone();
        if let Exit::Client = exit {
            out.drop_server_events(Some(&path));
            out.drop_unreachable(&path);
        }
        if was_connected && link.open && matches!(exit, Exit::Client | Exit::Closed(_)) {
            out.control(
                &Packet::Disconnect {
                    namespace: path.clone(),
                },
                link.frame_limit,
            );
        }
        if let Exit::Client = exit {
            for id in self.table[index].buffer.take().into_iter().filter_map(|e| e.ack) {
                self.time_out_ack(id, acks, out);
            }
        }
        if was_connected {
            let sent: Vec<AckId> = self.table[index]
                .acks
                .iter()
                .copied()
                .filter(|&id| acks.is_sent(id))
                .collect();
            for id in sent {
                self.time_out_ack(id, acks, out);
            }
        }
        let event = match exit {
            Exit::Client if seen != ConnectionState::Disconnected => ClientEvent::NamespaceDisconnected {
                namespace: path,
                reason: DisconnectReason::IoClientDisconnect,
                was_connected,
            },
            Exit::Server if was_connected => ClientEvent::NamespaceDisconnected {
                namespace: path,
                reason: DisconnectReason::IoServerDisconnect,
                was_connected,
            },
            Exit::Closed(reason) | Exit::Lost(reason) if was_connected => ClientEvent::NamespaceDisconnected {
                namespace: path,
                reason,
                was_connected,
            },
            Exit::Refused(error) => ClientEvent::NamespaceConnectError { namespace: path, error },
            _ => return,
        };
        out.event(event);
    }

    /// The connection ended (`exit` is [`Exit::Closed`] or [`Exit::Lost`]): every namespace leaves it, in creation
    /// order.
    pub(super) fn leave_all(&mut self, exit: impl Fn() -> Exit, link: Link, acks: &mut Acks, out: &mut Outbox) {
        // The connection that owed these answers is gone.
        self.leaving.clear();
        for index in 0..self.table.slot_count() {
            if self.table.slot(index).is_some() {
                self.leave(index, exit(), link, acks, out);
            }
        }
    }

    /// The connection could not be opened: each wanted namespace is told, after the `TransportError` (in creation
    /// order), with `error`.
    pub(super) fn tell_unreachable(&self, error: &ConnectError, out: &mut Outbox) {
        for ns in self.table.values().filter(|ns| ns.membership.is_wanted()) {
            out.event(ClientEvent::NamespaceTransportError {
                namespace: ns.path.clone(),
                error: error.clone(),
            });
        }
    }

    /// `close()`: every namespace leaves as by the user, and forgets its recovery state.
    pub(super) fn forget_all(&mut self, link: Link, acks: &mut Acks, out: &mut Outbox) {
        for index in 0..self.table.slot_count() {
            if let Some(ns) = self.table.slot_mut(index) {
                ns.pid = None;
                ns.last_offset = None;
                self.leave(index, Exit::Client, link, acks, out);
            }
        }
    }

    /// Forgets slot `index` (`remove_namespace`): it leaves as by the user, every pending ack of it times out, and
    /// it is removed (remembered as leaving when its CONNECT is unanswered).
    pub(super) fn remove(&mut self, index: usize, link: Link, acks: &mut Acks, out: &mut Outbox) {
        self.leave(index, Exit::Client, link, acks, out);
        let ids: Vec<AckId> = self.table[index].acks.iter().copied().collect();
        for id in ids {
            self.time_out_ack(id, acks, out);
        }
        let path = self.table[index].path.clone();
        if let Some(ns) = self.table.remove(&path) {
            if matches!(ns.membership, Membership::Leaving) && link.open {
                self.leaving.insert(ns.path);
            }
        }
    }

    /// Ack `id` gets no answer: it leaves its namespace (and its send buffer, if it still waits there) and times
    /// out.
    pub(super) fn time_out_ack(&mut self, id: AckId, acks: &mut Acks, out: &mut Outbox) {
        let Some(namespace) = acks.remove(id) else { return };
        if let Some(ns) = self.table.get_mut(&namespace) {
            ns.acks.remove(&id);
            ns.buffer.remove_ack(id);
        }
        out.event(ClientEvent::AckTimeout { namespace, id });
    }

    // ----- packets ---------------------------------------------------------------------------------------------

    /// A Socket.IO packet arrived (the connection is open).
    pub(super) fn receive(&mut self, packet: Received, link: Link, acks: &mut Acks, out: &mut Outbox) -> Then {
        let Some(index) = self.index_of(packet.namespace()) else {
            match packet {
                // The answer to the CONNECT of a namespace removed meanwhile: now the server accepts its DISCONNECT.
                Received::Connect { namespace, .. } if self.leaving.remove(&namespace) => {
                    out.control(&Packet::Disconnect { namespace }, link.frame_limit);
                }
                Received::ConnectError { namespace, .. } => {
                    self.leaving.remove(&namespace);
                }
                _ => {} // A namespace we never joined (or removed): ignore, as socket.io-client does.
            }
            return Then::Done;
        };
        match packet {
            Received::Connect { data, .. } => self.answered(index, data, link, acks, out),
            Received::ConnectError { data, .. } => match self.table[index].membership {
                Membership::Joining { .. } => {
                    let error = ConnectError::refusal(&data);
                    self.leave(index, Exit::Refused(error), link, acks, out);
                    Then::CloseIfUnused(DisconnectReason::IoClientDisconnect)
                }
                Membership::Leaving => {
                    self.set(index, Membership::Idle);
                    Then::Done
                }
                _ => Then::Done,
            },
            Received::Disconnect { .. } => match self.table[index].membership {
                Membership::Joining { .. } | Membership::Connected { .. } => {
                    self.leave(index, Exit::Server, link, acks, out);
                    Then::CloseIfUnused(DisconnectReason::IoServerDisconnect)
                }
                _ => Then::Done,
            },
            Received::Event {
                namespace,
                name,
                args,
                id,
            } => {
                let ns = &mut self.table[index];
                let stamp = match ns.membership {
                    Membership::Connected { session, .. } => session,
                    // Not in a session (a recovered session's replay never asks for acks): it cannot be answered.
                    _ => 0,
                };
                let event = ClientEvent::Event {
                    namespace,
                    name,
                    args,
                    ack: id.map(|id| AckRequest { id, session: stamp }),
                };
                match &mut ns.membership {
                    Membership::Connected { .. } => {
                        ns.note_offset(&event);
                        out.event(event);
                    }
                    Membership::Joining { early } if early.len() < MAX_EARLY_EVENTS => early.push(event),
                    Membership::Joining { .. } => {
                        // More replayed events than we hold: recovering would skip some. Start a fresh session.
                        ns.pid = None;
                        ns.last_offset = None;
                        return Then::Fail("too many events before the CONNECT answer");
                    }
                    Membership::Idle | Membership::Waiting | Membership::Leaving => {}
                }
                Then::Done
            }
            Received::Ack { namespace, id, args } => {
                if acks.answer(id, &namespace) {
                    self.table[index].acks.remove(&id);
                    out.event(ClientEvent::AckResponse { namespace, id, args });
                }
                Then::Done
            }
        }
    }

    /// The server answered slot `index`'s CONNECT: it connects, with the events that came early and then its
    /// buffered emits; or it leaves, when the user no longer wants it.
    fn answered(&mut self, index: usize, data: Option<Payload>, link: Link, acks: &mut Acks, out: &mut Outbox) -> Then {
        match self.table[index].membership {
            Membership::Joining { .. } => {}
            Membership::Leaving => {
                // Disconnected by the user while the CONNECT was on its way: leave now that the server allows it.
                let namespace = self.table[index].path.clone();
                out.control(&Packet::Disconnect { namespace }, link.frame_limit);
                self.set(index, Membership::Idle);
                return Then::Done;
            }
            _ => return Then::Done, // Not asked for (a second answer).
        }
        let Some(sid) = data.as_ref().and_then(|d| d.get_str("sid")) else {
            let error = ConnectError {
                message: "the server's CONNECT answer has no sid: it is not a Socket.IO v5 (v3/v4) server".into(),
                data: None,
            };
            self.leave(index, Exit::Refused(error), link, acks, out);
            return Then::CloseIfUnused(DisconnectReason::IoClientDisconnect);
        };
        let ns = &mut self.table[index];
        let pid = data.as_ref().and_then(|d| d.get_str("pid"));
        let recovered = pid.is_some() && pid == ns.pid;
        ns.pid = pid;
        if !recovered {
            ns.last_offset = None;
        }
        ns.recovered = recovered;
        let membership = Membership::Connected {
            sid: sid.clone(),
            session: acks::next_session(),
        };
        let Membership::Joining { early } = self.set(index, membership) else {
            unreachable!("checked above")
        };
        let ns = &mut self.table[index];
        for event in &early {
            ns.note_offset(event);
        }
        out.event(ClientEvent::NamespaceConnected {
            namespace: ns.path.clone(),
            sid,
            recovered,
        });
        for event in early {
            out.event(event);
        }
        for encoded in self.table[index].buffer.take() {
            if let Some(Err(error)) = link.frame_limit.map(|limit| limit.check(&encoded)) {
                // Buffered before the server told its limit; it would close the connection on it.
                out.event(ClientEvent::EmitFailed {
                    namespace: self.table[index].path.clone(),
                    error,
                });
                if let Some(id) = encoded.ack {
                    self.time_out_ack(id, acks, out);
                }
                continue;
            }
            if let Some(id) = encoded.ack {
                acks.mark_sent(id);
            }
            out.send(encoded);
        }
        Then::Done
    }
}
