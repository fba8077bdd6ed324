//! The writer: every write transaction runs on one dedicated thread that owns the write
//! connection, and commits the writes that arrive together as one transaction (group commit).
//!
//! Why: SQLite allows one writer at a time, and a commit costs far more than the statements in it
//! (file locks, the WAL append, on PostgreSQL a WAL flush). Handing the single write connection
//! from one request thread to the next serialises those costs; batching shares one commit among
//! many requests, and request threads wait for their result without blocking.
//!
//! Each write runs inside its own savepoint, so a write that fails (a duplicate, a refused rule)
//! is rolled back alone and the others in the batch still commit. A write's result is delivered
//! only after the batch has committed; if the commit fails, every write in it gets that error.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use diesel::connection::TransactionManager;
use diesel::Connection;
use tokio::sync::oneshot;

use super::{dialect, AnyConnection, Pool, Unavailable};

/// Most writes committed together on SQLite (see docs/PERFORMANCE.md for PostgreSQL).
pub const SQLITE_MAX_BATCH: usize = 128;
/// Writes that may wait for the writer before new ones are refused with 503.
const QUEUE_DEPTH: usize = 4096;

/// One write: run it on the connection, or fail it without running.
trait Job: Send {
    /// Runs the write; returns whether it succeeded (so its savepoint is kept) and how to deliver
    /// its result once the batch is committed.
    fn run(self: Box<Self>, conn: &mut AnyConnection) -> Delivery;
    fn fail(self: Box<Self>, err: diesel::result::Error);
}

struct Delivery {
    ok: bool,
    deliver: Box<dyn FnOnce(Option<diesel::result::Error>) + Send>,
}

struct TypedJob<F, T, E> {
    work: F,
    reply: oneshot::Sender<Result<T, E>>,
}

impl<F, T, E> Job for TypedJob<F, T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<diesel::result::Error> + From<Unavailable> + Send + 'static,
{
    fn run(self: Box<Self>, conn: &mut AnyConnection) -> Delivery {
        let TypedJob { work, reply } = *self;
        // A panic in this write fails this write alone: its savepoint is rolled back like any
        // failed write's, and the rest of the batch commits.
        let result = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(conn))) {
            Ok(result) => result,
            Err(_) => {
                tracing::error!("a write panicked; it is undone and the batch goes on");
                Err(E::from(diesel::result::Error::QueryBuilderError(
                    "the write panicked".into(),
                )))
            }
        };
        Delivery {
            ok: result.is_ok(),
            deliver: Box::new(move |commit_error| {
                let outcome = match (commit_error, result) {
                    // The write was fine but its transaction did not commit: nothing of it is
                    // stored, and trying again may succeed (503 with Retry-After).
                    (Some(err), Ok(_)) => Err(E::from(Unavailable::Lost(err.to_string()))),
                    (_, result) => result,
                };
                let _ = reply.send(outcome);
            }),
        }
    }

    fn fail(self: Box<Self>, err: diesel::result::Error) {
        let _ = self
            .reply
            .send(Err(E::from(Unavailable::Lost(err.to_string()))));
    }
}

/// The handle request threads use to submit writes. Cheap to clone.
#[derive(Clone)]
pub struct Writer {
    queue: SyncSender<Box<dyn Job>>,
    /// Writes submitted and not yet taken by a writer thread.
    waiting: Arc<AtomicUsize>,
}

/// How the writer runs: its threads, and how many waiting writes one transaction may take.
#[derive(Debug, Clone, Copy)]
pub struct WriterOptions {
    pub threads: usize,
    pub max_batch: usize,
}

impl Writer {
    /// Starts `threads` writer threads on connections from `pool`. SQLite takes one writer at a
    /// time, so it gets one thread; PostgreSQL commits several batches in parallel, which hides
    /// the network round trips of each.
    pub fn start(pool: Pool, options: WriterOptions) -> Writer {
        let (queue, jobs) = mpsc::sync_channel(QUEUE_DEPTH);
        let jobs = Arc::new(Mutex::new(jobs));
        let max_batch = options.max_batch.max(1);
        let waiting = Arc::new(AtomicUsize::new(0));
        for n in 0..options.threads.max(1) {
            let (pool, jobs, waiting) = (pool.clone(), jobs.clone(), waiting.clone());
            std::thread::Builder::new()
                .name(format!("cogov-writer-{n}"))
                .spawn(move || run(pool, jobs, max_batch, waiting))
                .expect("spawn a writer thread");
        }
        Writer { queue, waiting }
    }

    /// Runs `work` in a write transaction and waits (without blocking the caller's thread) until
    /// it is committed. `Err` from `work` rolls back its changes only.
    pub async fn write<T, E>(
        &self,
        work: impl FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<diesel::result::Error> + From<Unavailable> + Send + 'static,
    {
        let (reply, result) = oneshot::channel();
        let job: Box<dyn Job> = Box::new(TypedJob { work, reply });
        match self.queue.try_send(job) {
            Ok(()) => {
                self.waiting.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Full(_)) => {
                return Err(E::from(Unavailable::Overloaded(
                    "too many writes are waiting",
                )))
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(E::from(Unavailable::Overloaded("the writer has stopped")))
            }
        }
        result
            .await
            .unwrap_or_else(|_| Err(E::from(Unavailable::Overloaded("the writer has stopped"))))
    }
}

impl Writer {
    /// Writes waiting for a writer thread now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }
}

/// Takes the next batch: waits for one write, then takes whatever else is already waiting.
fn next_batch(jobs: &Mutex<Receiver<Box<dyn Job>>>, max_batch: usize) -> Option<Vec<Box<dyn Job>>> {
    let jobs = jobs.lock().ok()?;
    let first = jobs.recv().ok()?;
    let mut batch = vec![first];
    while batch.len() < max_batch {
        match jobs.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
    Some(batch)
}

fn run(
    pool: Pool,
    jobs: Arc<Mutex<Receiver<Box<dyn Job>>>>,
    max_batch: usize,
    waiting: Arc<AtomicUsize>,
) {
    while let Some(batch) = next_batch(&jobs, max_batch) {
        // Saturating: a write counted after its job was already taken must not wrap around.
        let _ = waiting.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
            Some(n.saturating_sub(batch.len()))
        });
        let mut conn = match pool.get() {
            Ok(conn) => conn,
            Err(err) => {
                tracing::error!(error = %err, "writer cannot get a database connection");
                for job in batch {
                    job.fail(diesel::result::Error::DatabaseError(
                        diesel::result::DatabaseErrorKind::ClosedConnection,
                        Box::new(err.to_string()),
                    ));
                }
                continue;
            }
        };
        // A panic in one write must not stop every later write: the batch's waiting requests
        // see their reply dropped (503), the connection goes back marked broken, and the writer
        // carries on.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            commit_batch(&mut conn, batch)
        }));
        if outcome.is_err() {
            tracing::error!("a write panicked; its batch was abandoned");
            let _ = Tm::rollback_transaction(&mut conn);
        }
    }
}

type Tm = <AnyConnection as Connection>::TransactionManager;

fn commit_batch(conn: &mut AnyConnection, batch: Vec<Box<dyn Job>>) {
    if let Err(err) = dialect::begin_write(conn) {
        let message = err.to_string();
        for job in batch {
            job.fail(copy_error(&err, &message));
        }
        return;
    }
    let mut deliveries = Vec::with_capacity(batch.len());
    if batch.len() == 1 {
        // Alone in its transaction: no savepoint needed.
        if let Some(job) = batch.into_iter().next() {
            let delivery = job.run(conn);
            let closed = if delivery.ok {
                Tm::commit_transaction(conn)
            } else {
                Tm::rollback_transaction(conn)
            };
            (delivery.deliver)(closed.err());
        }
        return;
    }
    for job in batch {
        // A savepoint per write: a failed write is undone alone.
        if let Err(err) = Tm::begin_transaction(conn) {
            job.fail(err);
            continue;
        }
        let delivery = job.run(conn);
        let closed = if delivery.ok {
            Tm::commit_transaction(conn)
        } else {
            Tm::rollback_transaction(conn)
        };
        match closed {
            Ok(()) => deliveries.push(delivery),
            Err(err) => (delivery.deliver)(Some(err)),
        }
    }
    match Tm::commit_transaction(conn) {
        Ok(()) => {
            for d in deliveries {
                (d.deliver)(None);
            }
        }
        Err(err) => {
            tracing::error!(error = %err, "commit failed; the batch is rolled back");
            let _ = Tm::rollback_transaction(conn);
            let message = err.to_string();
            for d in deliveries {
                let own = if d.ok {
                    Some(copy_error(&err, &message))
                } else {
                    None
                };
                (d.deliver)(own);
            }
        }
    }
}

/// diesel errors are not `Clone`; give each waiting write an equivalent one.
fn copy_error(err: &diesel::result::Error, message: &str) -> diesel::result::Error {
    use diesel::result::{DatabaseErrorKind, Error};
    match err {
        Error::DatabaseError(kind, _) => {
            let kind = match kind {
                DatabaseErrorKind::ClosedConnection => DatabaseErrorKind::ClosedConnection,
                DatabaseErrorKind::SerializationFailure => DatabaseErrorKind::SerializationFailure,
                _ => DatabaseErrorKind::Unknown,
            };
            Error::DatabaseError(kind, Box::new(message.to_owned()))
        }
        _ => Error::DatabaseError(DatabaseErrorKind::Unknown, Box::new(message.to_owned())),
    }
}
