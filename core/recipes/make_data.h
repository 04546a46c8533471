// Recipe: the bundled datasets as JSON lines in the official {"input",
// "output"} format — arith (the target task), wordnet-qa and wordnet-yesno
// (knowledge probes), wordnet-corpus ({"text"} documents for pretraining).
// Deterministic for a seed. Or a slice of a user's JSON-lines file (the
// paper's official splits, one's own data), checked line by line and copied.
// Torch-free.
#pragma once
#include <cstdint>

#include "config/data_request.h"
#include "config/project_plan.h"
#include "util/run_protocol.h"

namespace imsm {

// Returns the number of records written.
int64_t make_data(const DataRequest& request);

// A project's inputs (config/project_plan.h, project_inputs): each data key's
// file and the suite file; with missing_only, only those not yet there.
// BadInput naming the output folder or the record that is wrong.
void make_project_inputs(const ProjectPlan& plan, bool missing_only, const Hooks& hooks = {});

}  // namespace imsm
