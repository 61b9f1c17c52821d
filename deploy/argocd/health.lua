-- Argo CD health check for trainingjob.dev/TrainingJob.
-- Healthy once the job Succeeded, Degraded when it Failed (with the operator's message), Progressing
-- otherwise - and while the operator has not yet seen the latest spec (observedGeneration lags).
local hs = {}
hs.status = "Progressing"
hs.message = "Waiting for the operator"
if obj.status == nil or obj.status.phase == nil then
  return hs
end
local generation = obj.metadata and obj.metadata.generation
if generation ~= nil and (obj.status.observedGeneration == nil or obj.status.observedGeneration < generation) then
  hs.message = "Waiting for the operator to see generation " .. tostring(generation)
  return hs
end
local phase = obj.status.phase
if phase == "Succeeded" then
  hs.status = "Healthy"
  hs.message = obj.status.message or "Succeeded"
elseif phase == "Failed" then
  hs.status = "Degraded"
  hs.message = obj.status.message or "Failed"
else
  hs.status = "Progressing"
  local text = phase
  if obj.status.progress ~= nil and obj.status.progress.summary ~= nil then
    text = text .. " " .. obj.status.progress.summary
  end
  if obj.status.message ~= nil then
    text = text .. ": " .. obj.status.message
  end
  hs.message = text
end
return hs
