//! Integration tests of config-api against a real PostgreSQL and RabbitMQ; every test has
//! its own database and AMQP prefix (`shared::testkit`).

mod auth;
mod changes;
mod command_line;
mod console;
mod executions;
mod helpers;
mod parse;
mod replays;
mod secrets;
mod server_errors;
mod trigger_settings;
mod validation;
mod variables;
mod versions;
mod workflows;
