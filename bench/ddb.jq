# ddb.jq: DynamoDB stream records to CSV rows, written the way a jq user
# would today (make bench compares the C pipeline with it)

# a typed attribute value to a plain one
def plain:
  to_entries[0] as $e
  | if   $e.key == "S" or $e.key == "B" or $e.key == "SS" or $e.key == "BS"
    then $e.value
    elif $e.key == "N" then $e.value | tonumber
    elif $e.key == "NS" then $e.value | map(tonumber)
    elif $e.key == "BOOL" then $e.value
    elif $e.key == "NULL" then null
    elif $e.key == "M" then $e.value | map_values(plain)
    elif $e.key == "L" then $e.value | map(plain)
    else error("unknown type \($e.key)")
    end;

# the records of a Lambda event, or a record on its own
def records: if has("Records") then .Records[] else . end;

# a record's rows: MODIFY is REMOVE of the old image, then INSERT of the new
def rows:
  .dynamodb as $d
  | if   .eventName == "INSERT" then ($d.NewImage | map_values(plain)) + {EventType: "INSERT"}
    elif .eventName == "MODIFY" then
      (($d.OldImage | map_values(plain)) + {EventType: "REMOVE"}),
      (($d.NewImage | map_values(plain)) + {EventType: "INSERT"})
    elif .eventName == "REMOVE" then ($d.OldImage | map_values(plain)) + {EventType: "REMOVE"}
    else error("unknown eventName \(.eventName)")
    end
  | . + {created_at: $d.ApproximateCreationDateTime};

# rows to CSV: header is every key in order of first use, EventType and
# created_at last; maps and lists as JSON text
def csv:
  (reduce (.[] | keys_unsorted[]) as $k ({}; .[$k] = 1)
   | del(.EventType, .created_at) | keys_unsorted + ["EventType", "created_at"]) as $cols
  | ($cols | @csv),
    (.[] | [.[$cols[]] | if type == "object" or type == "array" then tojson else . end] | @csv);
