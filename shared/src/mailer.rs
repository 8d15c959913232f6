//! Sending 2FA email codes through one interface: locally to the log and an outbox the
//! admin tool reads, in AWS through Amazon SES.

use std::future::Future;
use std::sync::{Arc, OnceLock};

use crate::core::clock::{Millis, iso_millis};
use crate::store::{DynamoStore, OutboxMessage, OutboxStore, StoreError};

/// Delivers a message to one address.
pub trait Mailer {
    fn send(
        &self,
        to: &str,
        subject: &str,
        body: &str,
        now: Millis,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Where mail goes (`MAILER`: `outbox`, the default, or `ses` with `MAIL_FROM`).
#[derive(Clone, Debug)]
pub enum AppMailer {
    /// Local: the message goes to the log and the table's outbox; nothing leaves the machine.
    Outbox(DynamoStore),
    /// AWS: Amazon SES v2 from a verified sender.
    Ses { client: LazyClient<aws_sdk_sesv2::Client>, from: String },
}

/// An AWS client made by its first use instead of at init: making one parses the SDK's
/// partition table and compiles its region patterns (docs/cold-start.md), which a function
/// that sends no mail in an invocation should not pay for before its first poll.
#[derive(Clone)]
pub struct LazyClient<C> {
    cell: Arc<OnceLock<C>>,
    make: Arc<dyn Fn() -> C + Send + Sync>,
}

impl<C: Clone + Send + Sync + 'static> LazyClient<C> {
    /// A client `make` builds when it is first needed.
    pub fn new(make: impl Fn() -> C + Send + Sync + 'static) -> Self {
        LazyClient { cell: Arc::new(OnceLock::new()), make: Arc::new(make) }
    }

    /// A client already built (tests give one with their own HTTP layer).
    pub fn built(client: C) -> Self {
        let cell = Arc::new(OnceLock::new());
        let _ = cell.set(client.clone());
        LazyClient { cell, make: Arc::new(move || client.clone()) }
    }

    /// The client, made now if this is its first use.
    pub fn get(&self) -> &C {
        self.cell.get_or_init(|| (self.make)())
    }

    /// Whether the client has been made yet.
    pub fn is_made(&self) -> bool {
        self.cell.get().is_some()
    }
}

impl<C> std::fmt::Debug for LazyClient<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyClient").field("made", &self.cell.get().is_some()).finish()
    }
}

impl Mailer for AppMailer {
    async fn send(&self, to: &str, subject: &str, body: &str, now: Millis) -> Result<(), StoreError> {
        match self {
            AppMailer::Outbox(store) => {
                tracing::info!(%to, %subject, "email kept in the local outbox");
                let message = OutboxMessage {
                    to: to.into(),
                    subject: subject.into(),
                    body: body.into(),
                    sent_at: iso_millis(now),
                };
                store.put_outbox(&message).await
            }
            AppMailer::Ses { client, from } => {
                use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
                let content = |text: &str| Content::builder().data(text).charset("UTF-8").build();
                let message = Message::builder()
                    .subject(content(subject).map_err(|e| StoreError::Dynamo(e.to_string()))?)
                    .body(Body::builder().text(content(body).map_err(|e| StoreError::Dynamo(e.to_string()))?).build())
                    .build();
                client
                    .get()
                    .send_email()
                    .from_email_address(from)
                    .destination(Destination::builder().to_addresses(to).build())
                    .content(EmailContent::builder().simple(message).build())
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(ses_error)
            }
        }
    }
}

/// An SES failure read for its reason: throttling, timeouts, lost connections and SES's own
/// 5xx may pass ([`StoreError::Unavailable`], worth another try); anything else (a rejected
/// message or address, an unverified sender, a paused account) will not.
fn ses_error(
    e: aws_sdk_sesv2::error::SdkError<
        aws_sdk_sesv2::operation::send_email::SendEmailError,
        aws_sdk_sesv2::config::http::HttpResponse,
    >,
) -> StoreError {
    use aws_sdk_sesv2::error::{ProvideErrorMetadata, SdkError};
    let passing = match &e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(s) => {
            let status = s.raw().status().as_u16();
            status == 429 || status >= 500 || matches!(s.err().code(), Some("TooManyRequestsException"))
        }
        _ => false,
    };
    let reason = format!("SES: {} {}", e.code().unwrap_or("no code"), e.message().unwrap_or(""));
    if passing { StoreError::Unavailable(reason) } else { StoreError::Dynamo(reason) }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn a_lazy_client_is_made_by_its_first_use_and_only_once() {
        let made = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&made);
        let lazy = LazyClient::new(move || counter.fetch_add(1, Ordering::SeqCst) + 41);
        let copy = lazy.clone();
        assert_eq!((made.load(Ordering::SeqCst), lazy.is_made()), (0, false), "nothing made before the first use");
        assert_eq!(*copy.get(), 41);
        assert_eq!((*lazy.get(), *copy.get()), (41, 41), "the clones share the one client");
        assert_eq!(made.load(Ordering::SeqCst), 1);
        assert!(lazy.is_made());
        let built = LazyClient::built(7usize);
        assert!(built.is_made());
        assert_eq!(*built.get(), 7);
    }
}
