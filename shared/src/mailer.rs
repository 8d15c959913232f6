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
                    .map_err(|e| StoreError::Dynamo(format!("SES: {}", aws_sdk_sesv2::error::DisplayErrorContext(e))))
            }
        }
    }
}
