// milter_answer.h — a judged message's in-dialog outcome as milter replies
// at the end of the body: the edits the after-queue mode makes to the
// message bytes (policy/edits.h, apply_edits), expressed as requests the
// MTA carries out on its own copy, then the one decision.
//
// Contract (pure; tested with tables):
//  * kReject / kTempfail → one SMFIR_REPLYCODE with the outcome's reply;
//    kDiscard → SMFIR_DISCARD.
//  * kPass → in this order, because the MTA counts header indexes on the
//    message as it received it and cannot interleave body replacement with
//    other requests (Postfix milter8.c):
//      1. X-Spam-Flag/Score/Level/Status deleted (CHGHEADER, empty value),
//         highest index first so no deletion shifts the next one;
//      2. the subject tag: CHGHEADER Subject #1 with the tag in front of
//         the value, or ADDHEADER Subject when there is none (as
//         apply_edits does);
//      3. add_fields as ADDHEADER, folds as LF (the MTA adds the CR);
//      4. an attachment removal as SMFIR_REPLBODY, only when the header
//         section of the edited message is the one received (it always is:
//         removal works inside the body) — else 451, never the original;
//      5. recipients: dropped ones DELRCPT, an address extension DELRCPT
//         old + ADDRCPT new;
//      6. SMFIR_ACCEPT.
//    What the MTA did not allow in OPTNEG: a body replacement or a dropped
//    recipient turns the answer into 451 4.3.5 (a configuration error; the
//    MTA keeps the message), an address extension is left out with a note.
//  * `leading_space`: SMFIP_HDR_LEADSPC was negotiated, so header values
//    carry their own leading space (else the MTA adds one).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "filterd/processor.h"
#include "milter/codec.h"
#include "smtp/reply.h"

namespace filterd {

struct MilterAnswer {
  std::vector<milter::Reply> replies;  // the edits, then the decision (last)
  smtp::Reply reply;                   // what the client is told, for the summary line
  std::vector<std::string> notes;      // for the summary line
};

// `queue_id`: the MTA's queue id (macro i), for the pass reply; may be "".
MilterAnswer milter_answer(const Judgement& j, const InDialogOutcome& outcome, uint32_t actions,
                           bool leading_space, const std::string& queue_id);

// The answer for a message filterd could not judge (too big, late): one
// SMFIR_REPLYCODE, or SMFIR_TEMPFAIL should `reply` not be a 4xx/5xx.
milter::Reply milter_refusal(const smtp::Reply& reply);

}  // namespace filterd
