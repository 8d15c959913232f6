//! Sending 2FA email codes through one interface: locally to the log and an outbox the
//! admin tool reads, in AWS through Amazon SES.

use std::future::Future;

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
    Ses { client: aws_sdk_sesv2::Client, from: String },
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
