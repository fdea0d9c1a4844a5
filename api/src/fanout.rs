//! Subscriptions that share one execution.
//!
//! Subscribers of the same document, with the same variables and the same grant (agency, API
//! client, scopes and regions; not a volunteer's token), are sent the same result for each
//! event: the event passes or fails their filter and access alike, and every field resolves
//! alike (masking too). So the gateway runs such a subscription once per process — a *group* —
//! and hands each result to every member, which still makes its own checks before the result
//! leaves: its token (expiry, revocation, the database's health) and the personal-data log,
//! written under its own token for each result that read personal data. A subscription that
//! replays from `after` runs on its own, as does a volunteer's (its cases are read when it
//! starts).
//!
//! A member that joins a running group is sent the results of the events after the feed's head
//! when it joined — as a subscription of its own would be — with no gap: the group follows
//! every event from the head when it started, and the feed publishes an event before the group
//! can run it. A member that falls more than the group's buffer behind is ended like a slow
//! subscriber of its own (`RATE_LIMITED` with its last sequence); a result that ends the
//! subscription (an error of the field, the feed's end) reaches every member, and no member
//! joins the group after it.

use std::{
    collections::{BTreeSet, HashMap, HashSet},
    sync::{
        Arc, Mutex, Weak,
        atomic::{AtomicBool, AtomicI64, Ordering},
    },
};

use async_graphql::{
    Name, Pos,
    parser::types::{ExecutableDocument, Selection, SelectionSet},
};
use futures_util::{Stream, StreamExt};

use crate::{auth::Actor, error::ErrorCode};

/// What makes two subscriptions' results the same.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    agency: String,
    client: String,
    scopes: BTreeSet<crate::auth::Scope>,
    regions: Vec<String>,
    query: String,
    operation: Option<String>,
    variables: String,
}

impl Key {
    /// The key of `actor`'s subscription `query`; `None` for a volunteer's token, whose results
    /// depend on the cases it had when it started.
    pub fn of(
        actor: &Actor,
        query: &str,
        operation: Option<&str>,
        variables: &async_graphql::Variables,
    ) -> Option<Self> {
        if actor.volunteer.is_some() {
            return None;
        }
        Some(Self {
            agency: actor.agency.clone(),
            client: actor.client.clone(),
            scopes: actor.scopes.clone(),
            regions: actor.regions.clone(),
            query: query.to_owned(),
            operation: operation.map(str::to_owned),
            variables: serde_json::to_string(variables).ok()?,
        })
    }
}

/// The field a shareable subscription selects: its response key and position, for the error
/// that ends a member that fell behind.
#[derive(Clone, Debug)]
pub struct Root {
    pub key: Name,
    pub pos: Pos,
}

/// The one root field of `operation`'s selection when it can be shared: it has no `after`
/// argument (a replay is each subscriber's own). `None` otherwise, or when the document is not
/// one a subscription could run (validation then refuses it on the subscription's own path).
pub fn shareable(doc: &ExecutableDocument, operation: Option<&str>) -> Option<Root> {
    let selected = crate::limits::select_operation(doc, operation)?;
    let mut fields = Vec::new();
    let mut visited = HashSet::new();
    collect(doc, &selected.selection_set.node, &mut visited, &mut fields)?;
    match fields.as_slice() {
        [(root, pos, has_after)] if !has_after => Some(Root { key: root.clone(), pos: *pos }),
        _ => None,
    }
}

/// The root fields under `set` (through fragments): response key, position, whether it has an
/// `after` argument. `None` for a fragment spread that names no fragment or repeats.
fn collect(
    doc: &ExecutableDocument,
    set: &SelectionSet,
    visited: &mut HashSet<Name>,
    fields: &mut Vec<(Name, Pos, bool)>,
) -> Option<()> {
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => {
                let key = field.node.response_key().node.clone();
                let has_after = field.node.arguments.iter().any(|(name, _)| name.node == "after");
                fields.push((key, field.pos, has_after));
            }
            Selection::InlineFragment(fragment) => {
                collect(doc, &fragment.node.selection_set.node, visited, fields)?;
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.clone();
                let fragment = doc.fragments.get(&name)?;
                if !visited.insert(name) {
                    return None;
                }
                collect(doc, &fragment.node.selection_set.node, visited, fields)?;
            }
        }
    }
    Some(())
}

/// What a shared execution's resolver needs: where to start (the feed's head when the group
/// started) and where to say which event the result it yields is of.
pub struct Start {
    pub after: i64,
    pub event: Arc<AtomicI64>,
}

/// No event: the result the resolver yields is not an event's (it ends the subscription).
pub const NO_EVENT: i64 = -1;

/// A result of a subscription made ready to send, free of GraphQL types.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A result: its JSON, the personal data it read unmasked (a snapshot of the reads, when
    /// any), and the codes of its errors (each delivery counts them).
    Result { body: Arc<str>, reads: Option<Arc<str>>, codes: Arc<[ErrorCode]> },
    /// A request error: the JSON array of its errors.
    Rejected { errors: Arc<str>, code: ErrorCode, codes: Arc<[ErrorCode]> },
    /// The execution ended.
    End,
    /// The execution failed (it panicked, or a result could not be encoded or its personal-data
    /// reads noted): each member's socket closes with an internal error, as a subscription of
    /// its own would have.
    Failed,
}

/// One result of a group, with the event it is of (none: it ends the subscription).
#[derive(Debug)]
pub struct Frame {
    pub event: Option<i64>,
    pub outcome: Outcome,
}

type Registry = Mutex<HashMap<Key, Weak<Group>>>;

/// The groups running in this process.
#[derive(Default)]
pub struct Groups {
    running: Arc<Registry>,
}

/// A group's results not yet read by every member: room for as many as are waiting (nothing
/// when all have been read), up to `capacity`; a member that falls further behind loses its
/// place.
struct Ring {
    /// The index of `frames[0]` among all the group's results.
    first: u64,
    /// Each result with the number of members yet to read it.
    frames: std::collections::VecDeque<(Arc<Frame>, usize)>,
    /// Members reading (each from the index after the last result when it joined).
    members: usize,
    capacity: usize,
    /// The bodies' bytes held, and the most that may be.
    bytes: usize,
    max_bytes: usize,
}

/// The bytes of results a group holds at most for its slowest member: results are prepared
/// (several KiB for a large selection) where the feed holds each event once, so a reader that
/// falls behind is bounded by size as well as by count.
pub const MAX_RING_BYTES: usize = 1 << 20;

fn size(frame: &Frame) -> usize {
    match &frame.outcome {
        Outcome::Result { body, reads, .. } => body.len() + reads.as_ref().map_or(0, |r| r.len()),
        Outcome::Rejected { errors, .. } => errors.len(),
        Outcome::End | Outcome::Failed => 0,
    }
}

impl Ring {
    fn end(&self) -> u64 {
        self.first + self.frames.len() as u64
    }

    fn push(&mut self, frame: Frame) {
        let bytes = size(&frame);
        while !self.frames.is_empty()
            && (self.frames.len() >= self.capacity || self.bytes + bytes > self.max_bytes)
        {
            self.pop();
        }
        self.bytes += bytes;
        self.frames.push_back((Arc::new(frame), self.members));
        self.trim();
    }

    fn pop(&mut self) {
        if let Some((frame, _)) = self.frames.pop_front() {
            self.bytes -= size(&frame);
            self.first += 1;
        }
    }

    /// Drops the results every member has read.
    fn trim(&mut self) {
        while self.frames.front().is_some_and(|(_, unread)| *unread == 0) {
            self.pop();
        }
        if self.frames.is_empty() && self.frames.capacity() > 64 {
            self.frames.shrink_to(64);
        }
    }

    /// Result `index` for a member; `Err` when it was dropped before the member read it.
    fn read(&mut self, index: u64) -> Result<Option<Arc<Frame>>, ()> {
        if index < self.first {
            return Err(());
        }
        let Some((frame, unread)) = self.frames.get_mut((index - self.first) as usize) else {
            return Ok(None);
        };
        *unread = unread.saturating_sub(1);
        let frame = frame.clone();
        self.trim();
        Ok(Some(frame))
    }

    /// A member that read up to `next` leaves.
    fn leave(&mut self, next: u64) {
        self.members = self.members.saturating_sub(1);
        let from = next.max(self.first);
        for index in from..self.end() {
            if let Some((_, unread)) = self.frames.get_mut((index - self.first) as usize) {
                *unread = unread.saturating_sub(1);
            }
        }
        self.trim();
    }
}

/// What a group's execution and its members share: the results, and a signal for each new one.
struct Results {
    ring: Mutex<Ring>,
    /// The index after the newest result.
    added: tokio::sync::watch::Sender<u64>,
}

impl Results {
    fn push(&self, frame: Frame) {
        let end = match self.ring.lock() {
            Ok(mut ring) => {
                ring.push(frame);
                ring.end()
            }
            Err(_) => return,
        };
        self.added.send_replace(end);
    }

    /// A new member's place: after the newest result.
    fn join(&self) -> Option<u64> {
        let mut ring = self.ring.lock().ok()?;
        ring.members += 1;
        Some(ring.end())
    }
}

/// One shared execution: its results go to every member.
struct Group {
    results: Arc<Results>,
    /// Set (under the registry's lock) before a result that ends the subscription is sent: no
    /// member joins after it.
    closed: Arc<AtomicBool>,
    task: tokio::task::AbortHandle,
    key: Key,
    running: Weak<Registry>,
}

impl Drop for Group {
    fn drop(&mut self) {
        // The last member left. Never dropped under the registry's lock (see `join`).
        if let Some(running) = self.running.upgrade()
            && let Ok(mut running) = running.lock()
            && running.get(&self.key).is_some_and(|g| g.strong_count() == 0)
        {
            running.remove(&self.key);
        }
        self.task.abort();
    }
}

/// A subscription's place in a group.
pub struct Member {
    /// Keeps the group running (a member's place is released before the group can drop).
    place: Place,
    /// The feed's head when it joined: it is sent the events after it.
    start: i64,
}

/// The index of the next result a member reads; released (the member leaves) on drop.
struct Place {
    group: Arc<Group>,
    next: u64,
}

impl Drop for Place {
    fn drop(&mut self) {
        if let Ok(mut ring) = self.group.results.ring.lock() {
            ring.leave(self.next);
        }
    }
}

/// Why a member's results ended before the group's did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Left {
    /// It fell more than the group's buffer behind; `last` is the last event it was sent (or
    /// the head when it joined).
    Behind { last: i64 },
}

impl Member {
    /// The member's results, in order: those of the events after its start, and any result that
    /// ends the subscription; then [`Outcome::End`] or, when it fell behind, [`Left::Behind`].
    pub fn frames(self) -> impl Stream<Item = Result<Arc<Frame>, Left>> + Send + use<> {
        let Self { mut place, start } = self;
        async_stream::stream! {
            let mut added = place.group.results.added.subscribe();
            let mut last = start;
            loop {
                // Marked seen before the ring is read: a result added after the read wakes it.
                added.borrow_and_update();
                let read = match place.group.results.ring.lock() {
                    Ok(mut ring) => ring.read(place.next),
                    Err(_) => Err(()),
                };
                let frame = match read {
                    Ok(Some(frame)) => frame,
                    Ok(None) => {
                        if added.changed().await.is_err() {
                            return;
                        }
                        continue;
                    }
                    Err(()) => {
                        yield Err(Left::Behind { last });
                        return;
                    }
                };
                place.next += 1;
                match (&frame.event, &frame.outcome) {
                    (Some(seq), _) if *seq <= start => continue,
                    (Some(seq), _) => last = *seq,
                    (None, Outcome::End | Outcome::Failed) => {
                        yield Ok(frame);
                        return;
                    }
                    (None, _) => {}
                }
                yield Ok(frame);
            }
        }
    }
}

/// Sends [`Outcome::End`] when a group's execution stops, however it stops.
struct Ending {
    results: Arc<Results>,
    closed: Arc<AtomicBool>,
    running: Weak<Registry>,
    /// Set when the execution's results ended by themselves; dropped before (a panic), the
    /// members are told it failed.
    finished: bool,
}

impl Ending {
    /// Sends a result that ends the subscription: under the registry's lock, so that a member
    /// either joined before it (and is sent it) or finds the group closed.
    fn last(&self, frame: Frame) {
        let running = self.running.upgrade();
        let _joins = running.as_ref().map(|r| r.lock());
        self.closed.store(true, Ordering::Release);
        self.results.push(frame);
    }
}

impl Drop for Ending {
    fn drop(&mut self) {
        let outcome = if self.finished { Outcome::End } else { Outcome::Failed };
        self.last(Frame { event: None, outcome });
    }
}

/// How a group's execution runs, for [`Groups::join`].
pub struct Execution<H, F> {
    /// Results that may wait for a member before it falls behind.
    pub buffer: usize,
    /// The feed's head now.
    pub head: H,
    /// Starts the execution: the results of the events after the head given.
    pub start: F,
    /// Held while the execution runs.
    pub running: crate::metrics::Held,
    /// The span the execution logs in.
    pub span: tracing::Span,
}

impl Groups {
    /// Groups running now.
    #[cfg(test)]
    fn running(&self) -> usize {
        self.running.lock().map(|r| r.values().filter(|g| g.strong_count() > 0).count()).unwrap_or(0)
    }

    /// A member of `key`'s group, started as `how` says when none runs (or the one running has
    /// ended): the results of the events after the head when it started (a member that joins
    /// later is sent those after the head when it joins).
    pub fn join<H, F, S>(&self, key: Key, how: Execution<H, F>) -> Member
    where
        H: Fn() -> i64,
        F: FnOnce(i64) -> S,
        S: Stream<Item = Frame> + Send + 'static,
    {
        let Ok(mut running) = self.running.lock() else {
            return self.start(key, how);
        };
        // A group upgraded under the lock is dropped after it: a group's drop takes the lock.
        let found = running.get(&key).and_then(Weak::upgrade);
        if let Some(group) = &found
            && !group.closed.load(Ordering::Acquire)
            && let Some(next) = group.results.join()
        {
            let member = Member { place: Place { group: group.clone(), next }, start: (how.head)() };
            drop(running);
            drop(found);
            return member;
        }
        // Started under the lock: two subscribers of the same key at once join one group.
        let member = self.start(key.clone(), how);
        running.insert(key, Arc::downgrade(&member.place.group));
        drop(running);
        drop(found);
        member
    }

    fn start<H, F, S>(&self, key: Key, how: Execution<H, F>) -> Member
    where
        H: Fn() -> i64,
        F: FnOnce(i64) -> S,
        S: Stream<Item = Frame> + Send + 'static,
    {
        let Execution { buffer, head, start, running: running_gauge, span } = how;
        let ring = Ring {
            first: 0,
            frames: Default::default(),
            members: 1,
            capacity: buffer.max(1),
            bytes: 0,
            max_bytes: MAX_RING_BYTES,
        };
        let results = Arc::new(Results { ring: Mutex::new(ring), added: tokio::sync::watch::channel(0).0 });
        let from = head();
        let closed = Arc::new(AtomicBool::new(false));
        let (ending_results, ending_closed, registry) =
            (results.clone(), closed.clone(), Arc::downgrade(&self.running));
        let execution = start(from);
        let task = tokio::spawn(tracing::Instrument::instrument(
            async move {
                let _running = running_gauge;
                // Made in the task: dropped before it runs (the runtime shutting down), it says
                // nothing, and it never takes the registry's lock on the thread that holds it
                // for `join`.
                let mut ending = Ending {
                    results: ending_results,
                    closed: ending_closed,
                    running: registry,
                    finished: false,
                };
                let mut execution = std::pin::pin!(execution);
                while let Some(frame) = execution.next().await {
                    if frame.event.is_some() {
                        ending.results.push(frame);
                    } else {
                        ending.last(frame);
                    }
                }
                ending.finished = true;
            },
            span,
        ));
        let group = Arc::new(Group {
            results,
            closed,
            task: task.abort_handle(),
            key,
            running: Arc::downgrade(&self.running),
        });
        Member { place: Place { group, next: 0 }, start: from }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicI64;

    use futures_util::StreamExt;
    use tokio::sync::mpsc;

    use super::*;

    fn key(query: &str) -> Key {
        let actor = Actor::command_line("DINSOS", "test", BTreeSet::new(), vec!["64".into()]);
        Key::of(&actor, query, None, &async_graphql::Variables::default()).expect("a key")
    }

    fn event(seq: i64) -> Frame {
        Frame {
            event: Some(seq),
            outcome: Outcome::Result { body: seq.to_string().into(), reads: None, codes: Arc::from([]) },
        }
    }

    fn ending(text: &str) -> Frame {
        Frame {
            event: None,
            outcome: Outcome::Result { body: text.into(), reads: None, codes: Arc::from([]) },
        }
    }

    fn body(frame: &Frame) -> String {
        match &frame.outcome {
            Outcome::Result { body, .. } => body.to_string(),
            other => format!("{other:?}"),
        }
    }

    /// A group's execution stand-in: the frames the test sends, from the head it started at.
    struct StandIn {
        results: mpsc::UnboundedSender<Frame>,
        started_at: Arc<AtomicI64>,
    }

    fn join(
        groups: &Groups,
        query: &str,
        buffer: usize,
        head: i64,
        execution: &mut Option<StandIn>,
    ) -> Member {
        let gauge = prometheus_client::metrics::gauge::Gauge::default();
        groups.join(
            key(query),
            Execution {
                buffer,
                head: || head,
                start: |from| {
                    let (results, mut receiver) = mpsc::unbounded_channel();
                    let started_at = Arc::new(AtomicI64::new(from));
                    *execution = Some(StandIn { results, started_at });
                    async_stream::stream! {
                        while let Some(frame) = receiver.recv().await {
                            yield frame;
                        }
                    }
                },
                running: crate::metrics::Held::new(&gauge),
                span: tracing::Span::none(),
            },
        )
    }

    async fn next(
        frames: &mut (impl Stream<Item = Result<Arc<Frame>, Left>> + Unpin),
    ) -> Result<String, Left> {
        let item = tokio::time::timeout(std::time::Duration::from_secs(5), frames.next())
            .await
            .expect("an answer, not a hang")
            .expect("an item");
        item.map(|frame| body(&frame))
    }

    #[tokio::test]
    async fn members_of_one_key_share_an_execution_and_each_gets_the_events_after_it_joined() {
        let groups = Groups::default();
        let mut execution = None;
        let first = join(&groups, "q", 16, 10, &mut execution);
        let execution = execution.expect("the first member started the execution");
        assert_eq!(execution.started_at.load(Ordering::Relaxed), 10, "from the head when it started");
        let mut first = Box::pin(first.frames());
        execution.results.send(event(11)).expect("send");
        assert_eq!(next(&mut first).await, Ok("11".into()));

        // A second member joins at head 12; the execution is still on event 12.
        let mut again = None;
        let second = join(&groups, "q", 16, 12, &mut again);
        assert!(again.is_none(), "no second execution for the same key");
        assert_eq!(groups.running(), 1);
        let mut second = Box::pin(second.frames());
        for seq in [12, 13] {
            execution.results.send(event(seq)).expect("send");
        }
        assert_eq!(next(&mut first).await, Ok("12".into()));
        assert_eq!(next(&mut first).await, Ok("13".into()));
        assert_eq!(next(&mut second).await, Ok("13".into()), "only events after the head it joined at");

        // Another key runs on its own.
        let mut other = None;
        let _other = join(&groups, "other", 16, 13, &mut other);
        assert!(other.is_some());
        assert_eq!(groups.running(), 2);

        // A result that ends the subscription reaches every member; then no one joins it.
        execution.results.send(ending("ended")).expect("send");
        for member in [&mut first, &mut second] {
            assert_eq!(next(member).await, Ok("ended".into()));
        }
        let mut fresh = None;
        let _third = join(&groups, "q", 16, 13, &mut fresh);
        assert!(fresh.is_some(), "a member after the end starts a new execution");
    }

    #[tokio::test]
    async fn a_member_that_falls_behind_is_ended_with_its_last_event_and_the_others_go_on() {
        let groups = Groups::default();
        let mut execution = None;
        let slow = join(&groups, "q", 2, 0, &mut execution);
        let execution = execution.expect("started");
        let mut slow = Box::pin(slow.frames());
        let mut keeping_up = Box::pin(join(&groups, "q", 2, 0, &mut None).frames());
        execution.results.send(event(1)).expect("send");
        assert_eq!(next(&mut slow).await, Ok("1".into()));
        assert_eq!(next(&mut keeping_up).await, Ok("1".into()));
        for seq in 2..=6 {
            execution.results.send(event(seq)).expect("send");
            assert_eq!(next(&mut keeping_up).await, Ok(seq.to_string()));
        }
        assert_eq!(next(&mut slow).await, Err(Left::Behind { last: 1 }), "resume after the last it was sent");
        let ended =
            tokio::time::timeout(std::time::Duration::from_secs(5), slow.next()).await.expect("no hang");
        assert!(ended.is_none(), "and its results end");
        execution.results.send(event(7)).expect("send");
        assert_eq!(next(&mut keeping_up).await, Ok("7".into()));
    }

    #[tokio::test]
    async fn the_execution_stops_when_its_last_member_leaves_and_members_learn_when_it_stops() {
        let groups = Groups::default();
        let mut execution = None;
        let member = join(&groups, "q", 4, 0, &mut execution);
        let execution = execution.expect("started");
        drop(member);
        tokio::time::timeout(std::time::Duration::from_secs(5), execution.results.closed())
            .await
            .expect("the execution is dropped once nobody follows it");
        assert!(groups.running.lock().expect("lock").is_empty(), "and the registry forgets it");

        // An execution that stops (its stream ends) ends its members' results.
        let mut execution = None;
        let member = join(&groups, "q", 4, 0, &mut execution);
        let mut frames = Box::pin(member.frames());
        drop(execution);
        let end = tokio::time::timeout(std::time::Duration::from_secs(5), frames.next())
            .await
            .expect("no hang")
            .expect("an end")
            .expect("not behind");
        assert!(matches!(end.outcome, Outcome::End), "{end:?}");
    }

    #[tokio::test]
    async fn a_member_that_leaves_with_results_unread_holds_nothing_back() {
        let groups = Groups::default();
        let mut execution = None;
        let mut staying = Box::pin(join(&groups, "q", 4, 0, &mut execution).frames());
        let execution = execution.expect("started");
        let leaving = join(&groups, "q", 4, 0, &mut None);
        for seq in 1..=3 {
            execution.results.send(event(seq)).expect("send");
            assert_eq!(next(&mut staying).await, Ok(seq.to_string()));
        }
        drop(leaving);
        // The results the leaver never read go with it: the ring ends up empty, not full of them.
        for seq in 4..=9 {
            execution.results.send(event(seq)).expect("send");
            assert_eq!(next(&mut staying).await, Ok(seq.to_string()));
        }
        let group =
            groups.running.lock().expect("lock").values().next().and_then(Weak::upgrade).expect("a group");
        let ring = group.results.ring.lock().expect("lock");
        assert!(ring.frames.is_empty(), "every result read by every member is let go");
        assert_eq!((ring.members, ring.bytes), (1, 0));
    }

    #[tokio::test]
    async fn results_wait_for_a_slow_member_up_to_a_size_too() {
        let groups = Groups::default();
        let mut execution = None;
        let mut slow = Box::pin(join(&groups, "q", 4096, 0, &mut execution).frames());
        let execution = execution.expect("started");
        let big = "x".repeat(MAX_RING_BYTES / 3 + 1);
        for seq in 1..=3 {
            let outcome = Outcome::Result { body: big.as_str().into(), reads: None, codes: Arc::from([]) };
            execution.results.send(Frame { event: Some(seq), outcome }).expect("send");
        }
        // The third does not fit beside the first two: the first is let go.
        let first =
            tokio::time::timeout(std::time::Duration::from_secs(5), slow.next()).await.expect("no hang");
        assert!(matches!(first, Some(Err(Left::Behind { last: 0 }))), "{first:?}");
    }

    #[tokio::test]
    async fn an_execution_that_panics_fails_its_members() {
        let groups = Groups::default();
        let gauge = prometheus_client::metrics::gauge::Gauge::default();
        let member = groups.join(
            key("q"),
            Execution {
                buffer: 4,
                head: || 0,
                start: |_| {
                    async_stream::stream! {
                        tokio::task::yield_now().await;
                        if std::hint::black_box(true) {
                            panic!("a resolver panicked");
                        }
                        yield event(1);
                    }
                },
                running: crate::metrics::Held::new(&gauge),
                span: tracing::Span::none(),
            },
        );
        let mut frames = Box::pin(member.frames());
        let failed = tokio::time::timeout(std::time::Duration::from_secs(5), frames.next())
            .await
            .expect("no hang")
            .expect("an item")
            .expect("not behind");
        assert!(matches!(failed.outcome, Outcome::Failed), "{failed:?}");
        let after =
            tokio::time::timeout(std::time::Duration::from_secs(5), frames.next()).await.expect("no hang");
        assert!(after.is_none(), "and its results end");
    }
}
