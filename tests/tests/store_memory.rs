//! The conformance suite on the embedded store.

use std::sync::Arc;
use stratus_core::clock::ManualClock;
use stratus_core::store::Table;
use stratus_core::store::memory::MemoryTable;
use stratus_core::store::schema::MAIN;

async fn memory_table(clock: ManualClock) -> Arc<dyn Table> {
    Arc::new(MemoryTable::new(&MAIN, Arc::new(clock)))
}

stratus_tests::conformance_suite!(memory_table);
